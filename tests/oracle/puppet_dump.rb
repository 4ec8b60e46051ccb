#!/usr/bin/env ruby
# frozen_string_literal: true
#
# The PN oracle: Puppet's own parser and PN transformer, run in ONE Ruby
# process for many files (a `puppet` process per file costs a second).
#
# Usage:
#   ruby puppet_dump.rb [PATH...]        # or: paths one per line on stdin
#   ruby puppet_dump.rb --parse-only [PATH...]
#   ruby puppet_dump.rb --epp [PATH...]  # EPP templates
#
# For each path it prints one JSON line
#   {"path": P, "pn": PN, "json": JSON,
#    "error": null | {"message", "line", "pos", "syntax_error"},
#    "transform_error": null | MESSAGE}
# where PN is exactly what `puppet parser dump --format pn P` prints after its
# `--- P` marker and JSON exactly what `--format json` prints. Both replicate
# Puppet::Face[:parser].dump_parse without --validate (puppet/face/parser.rb).
# "error" is set when Puppet's parser rejects the file; "transform_error" when
# the file parses but Puppet's PN transformer crashes on it (Puppet 7's
# PNTransformer#parameters_entry calls `PN::Literal(true)` for a
# captures-rest parameter `*$rest`, so `puppet parser dump` fails there too;
# a deep tree, e.g. a sum of 2,000 terms, exhausts Ruby's stack). For the
# first, the PN comes from the transformer with that bug fixed and
# "captures_rest_fix" is true.
#
# --epp parses each file as an EPP template the way `puppet epp dump --format
# pn|json FILE` does (Puppet::Face[:epp] dump_parse with its default
# --validate): Puppet's EppParser, its validator, then the PN transformer. A
# file the validator rejects is recorded as an error, as the command reports
# it, with "validation": true in the error and the PN of the unvalidated tree
# (which the command does not print) for comparison.
#
# --parse-only parses without transforming (for scripts/bench-parse), best of
# --rounds N (default 3), with Puppet's validation too when --validate is
# given, and prints one summary line:
# {"files", "bytes", "errors", "seconds", "rounds", "peak_rss_kb"}.

require 'puppet'
require 'json'

# Settings as the `puppet` command initialises them: the lexer consults
# Puppet[:tasks], which only exists once settings are initialised.
Puppet.initialize_settings([])
require 'puppet/pops'
require 'puppet/pops/pn'

parse_only = ARGV.delete('--parse-only')
validate = ARGV.delete('--validate')
rounds = 3
if (at = ARGV.index('--rounds'))
  rounds = Integer(ARGV[at + 1])
  ARGV.slice!(at, 2)
end
epp = ARGV.delete('--epp')
paths = ARGV.empty? ? $stdin.each_line.map(&:chomp).reject(&:empty?) : ARGV

def read_source(path)
  Puppet::FileSystem.read(path, :encoding => 'utf-8')
end

# "syntax_error" tells a Puppet::ParseError (reported by `puppet parser dump`
# per file) from another exception out of the parser, on which the `puppet`
# command aborts altogether (e.g. an ArgumentError for "\u{110000}").
def error_data(detail)
  if detail.is_a?(Puppet::ParseError)
    { 'message' => detail.message, 'line' => detail.line, 'pos' => detail.pos, 'syntax_error' => true }
  else
    { 'message' => "#{detail.class}: #{detail.message}", 'line' => nil, 'pos' => nil, 'syntax_error' => false }
  end
end

def peak_rss_kb
  File.read('/proc/self/status')[/^VmHWM:\s+(\d+)/, 1].to_i
end

if parse_only
  sources = paths.map { |path| read_source(path) }
  errors = 0
  seconds = (1..rounds).map do
    errors = 0
    started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    sources.each do |source|
      if validate
        Puppet::Pops::Parser::EvaluatingParser.new.parse_string(source)
      else
        Puppet::Pops::Parser::EvaluatingParser.new.parser.parse_string(source)
      end
    rescue Puppet::ParseError
      errors += 1
    end
    Process.clock_gettime(Process::CLOCK_MONOTONIC) - started
  end.min
  puts JSON.generate('files' => sources.size, 'bytes' => sources.sum(&:bytesize),
                     'errors' => errors, 'seconds' => seconds, 'rounds' => rounds,
                     'peak_rss_kb' => peak_rss_kb)
  exit 0
end

# Puppet 7's PNTransformer with its one bug fixed: parameters_entry calls
# `PN::Literal(true)`, a method that does not exist, for a captures-rest
# parameter `*$rest`, so `puppet parser dump` crashes on every file that has
# one. Puppet 8 writes `PN::Literal.new(true)`; so does this subclass, used
# only for files on which the original crashes that way.
class CapturesRestPNTransformer < Puppet::Pops::Model::PNTransformer
  def parameters_entry(parameters)
    Puppet::Pops::PN::Map.new(parameters.map do |p|
      entries = []
      entries << transform(p.type_expr).with_name('type') unless p.type_expr.nil?
      entries << Puppet::Pops::PN::Literal.new(true).with_name('splat') if p.captures_rest
      entries << transform(p.value).with_name('value') unless p.value.nil?
      Puppet::Pops::PN::Map.new(entries).with_name(p.name)
    end).with_name('params')
  end
end

def captures_rest_crash?(error)
  error.is_a?(NoMethodError) && error.name == :Literal
end

$stdout.sync = false
paths.each do |path|
  record = { 'path' => path, 'pn' => nil, 'json' => nil, 'error' => nil, 'transform_error' => nil,
             'captures_rest_fix' => false }
  begin
    source = read_source(path)
    if epp
      evaluating_parser = Puppet::Pops::Parser::EvaluatingParser::EvaluatingEppParser.new
      model = evaluating_parser.parser.parse_string(source, path)
      begin
        evaluating_parser.assert_and_report(model, path)
      rescue Puppet::ParseError => e
        record['error'] = error_data(e).merge('validation' => true)
      end
    else
      model = Puppet::Pops::Parser::EvaluatingParser.new.parser.parse_string(source)
    end
  rescue StandardError, SystemStackError => e
    record['error'] = error_data(e)
  end
  if model
    begin
      pn = Puppet::Pops::Model::PNTransformer.transform(model)
      record['pn'] = pn.format(nil, +'')
      record['json'] = JSON.dump(pn.to_data)
    rescue StandardError, SystemStackError => e
      if captures_rest_crash?(e)
        pn = CapturesRestPNTransformer.new.transform(model)
        record['pn'] = pn.format(nil, +'')
        record['json'] = JSON.dump(pn.to_data)
        record['captures_rest_fix'] = true
      else
        record['transform_error'] = "#{e.class}: #{e.message}"
      end
    end
  end
  $stdout.puts JSON.generate(record)
end
$stdout.flush
