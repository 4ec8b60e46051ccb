#!/usr/bin/env ruby
# frozen_string_literal: true
#
# The class declaration oracle: every class a manifest declares by a literal
# name, as Puppet's own parser builds the tree, run in ONE Ruby process for
# many files.
#
# Usage:
#   ruby puppet_class_declarations.rb [PATH...]   # or: paths one per line on stdin
#
# For each path it prints one JSON line
#   {"path": P, "declarations": [{"kind", "name", "line"}], "error": null | MESSAGE}
# where kind is the function called (`include`, `require`, `contain`) or
# `class` for a resource-like declaration (`class { 'x': }`, one per title),
# name the class as written (a string or a bare name, arrays flattened;
# names built from variables are left out), and line the line of the call or
# of the title. Definitions at any depth count: class and define bodies,
# node bodies, functions written in Puppet, conditionals.

require 'puppet'
require 'json'

Puppet.initialize_settings([])
require 'puppet/pops'

paths = ARGV.empty? ? $stdin.each_line.map(&:chomp).reject(&:empty?) : ARGV

DECLARING = %w[include require contain].freeze

# The literal class names an argument or a title holds.
def literal_names(expr)
  case expr
  when Puppet::Pops::Model::LiteralString then [expr.value]
  when Puppet::Pops::Model::QualifiedName then [expr.value]
  when Puppet::Pops::Model::ConcatenatedString
    parts = expr.segments
    parts.all? { |s| s.is_a?(Puppet::Pops::Model::LiteralString) } ? [parts.map(&:value).join] : []
  when Puppet::Pops::Model::LiteralList then expr.values.flat_map { |v| literal_names(v) }
  else []
  end
end

def declarations(program)
  found = []
  program._pcore_all_contents([]) do |node|
    case node
    when Puppet::Pops::Model::CallNamedFunctionExpression
      functor = node.functor_expr
      next unless functor.is_a?(Puppet::Pops::Model::QualifiedName) && DECLARING.include?(functor.value)
      node.arguments.each do |arg|
        literal_names(arg).each do |name|
          found << { 'kind' => functor.value, 'name' => name, 'line' => node.line }
        end
      end
    when Puppet::Pops::Model::ResourceExpression
      type = node.type_name
      next unless type.is_a?(Puppet::Pops::Model::QualifiedName) && type.value == 'class'
      node.bodies.each do |body|
        literal_names(body.title).each do |name|
          found << { 'kind' => 'class', 'name' => name, 'line' => body.title.line }
        end
      end
    end
  end
  found
end

$stdout.sync = false
paths.each do |path|
  record = { 'path' => path, 'declarations' => [], 'error' => nil }
  begin
    source = Puppet::FileSystem.read(path, :encoding => 'utf-8')
    program = Puppet::Pops::Parser::EvaluatingParser.new.parser.parse_string(source).model
    record['declarations'] = declarations(program)
  rescue StandardError, SystemStackError => e
    record['error'] = "#{e.class}: #{e.message.lines.first.to_s.chomp[0, 200]}"
  end
  $stdout.puts JSON.generate(record)
end
$stdout.flush
