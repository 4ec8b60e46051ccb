#!/usr/bin/env ruby
# frozen_string_literal: true
#
# The validation oracle: Puppet 7's own parser and validator (Checker4_0, the
# checker behind `puppet parser validate`), run in ONE Ruby process for many
# files, with an acceptor that collects EVERY diagnostic (Puppet's command
# stops at the first error).
#
# Usage:
#   ruby puppet_validate.rb [PATH...]        # or: paths one per line on stdin
#
# For each path it prints one JSON line
#   {"path": P, "diagnostics": [{"code", "severity", "line", "pos", "message"}],
#    "error": null | MESSAGE}
# in the order Puppet's checker reports them. "error" is set (and there are no
# diagnostics) when Puppet's parser rejects the file. A heredoc whose text
# fails the checker of its syntax (`@(END:json)`) stops Puppet's validation:
# it is the last diagnostic, with its issue code (ILLEGAL_JSON, ...). Severities are Puppet's
# defaults (ValidatorFactory_4_0): "error", "warning", or "deprecation";
# issues graded :ignore are not reported at all, as in Puppet.
#
# A `*.epp` file is parsed as an EPP template (Puppet's EppParser), anything
# else as a manifest. Files are parsed from their text, without a file name, as `puppet parser
# validate` treats its files (each is the initial manifest): the checks that
# depend on where a file sits in a module path (ILLEGAL_DEFINITION_LOCATION,
# ILLEGAL_TOP_CONSTRUCT_LOCATION) never apply.

require 'puppet'
require 'json'

# Settings as the `puppet` command initialises them: the lexer consults
# Puppet[:tasks], and the severities depend on Puppet[:strict].
Puppet.initialize_settings([])
require 'puppet/pops'

paths = ARGV.empty? ? $stdin.each_line.map(&:chomp).reject(&:empty?) : ARGV

def diagnostic_data(diagnostic)
  pos = diagnostic.source_pos
  {
    'code' => diagnostic.issue.issue_code.to_s,
    'severity' => diagnostic.severity.to_s,
    'line' => pos&.line,
    'pos' => pos&.pos,
    'message' => diagnostic.issue.format(diagnostic.arguments)
  }
end

$stdout.sync = false
paths.each do |path|
  record = { 'path' => path, 'diagnostics' => [], 'error' => nil }
  begin
    source = Puppet::FileSystem.read(path, :encoding => 'utf-8')
    parser = if path.end_with?('.epp')
               Puppet::Pops::Parser::EvaluatingParser::EvaluatingEppParser.new
             else
               Puppet::Pops::Parser::EvaluatingParser.new
             end
    program = parser.parser.parse_string(source).model
  rescue StandardError, SystemStackError => e
    record['error'] = "#{e.class}: #{e.message.lines.first.to_s.chomp}"
  end
  if program
    acceptor = Puppet::Pops::Validation::Acceptor.new
    begin
      parser.validator(acceptor).validate(program)
    rescue Puppet::ParseErrorWithIssue => e
      # The text of a heredoc failed the checker of its syntax (`@(END:json)`):
      # Puppet raises at once, and validates nothing after it.
      failure = { 'code' => e.issue_code.to_s, 'severity' => 'error', 'line' => e.line,
                  'pos' => e.pos, 'message' => e.basic_message }
    end
    record['diagnostics'] = acceptor.diagnostics.map { |d| diagnostic_data(d) }
    record['diagnostics'] << failure if failure
  end
  $stdout.puts JSON.generate(record)
end
$stdout.flush
