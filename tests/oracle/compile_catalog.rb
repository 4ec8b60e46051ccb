#!/usr/bin/env ruby
# frozen_string_literal: true
#
# The catalog oracle: Puppet's own compiler, through its Ruby API, on
# manifests, without applying anything and without facter.
#
# Usage:
#   ruby compile_catalog.rb --workdir DIR --manifest FILE --modulepath DIR[:DIR...]
#        --facts FILE --hiera-config FILE [--node NAME]
#   ruby compile_catalog.rb --workdir DIR --batch < REQUESTS
#
# --facts is a JSON or YAML hash: the node's facts, exactly (no facter), and
# `clientcert` (the node's name) unless they give it.
# --hiera-config is a Hiera 5 hiera.yaml (Puppet's global layer).
# --workdir holds Puppet's confdir, vardir, codedir... for this process, so
# that nothing of the machine's own Puppet configuration is read or written.
# --batch compiles many catalogs in one process (loading Puppet costs about a
# second): one JSON request per line on stdin, {"manifest", "modulepath":
# [DIR...], "facts": {...}, "hiera_config", "node": NAME or null,
# "classes": [CLASS...] or absent}, and one answer line per request on
# stdout, in order. "classes" are the node's classes as an external node
# classifier gives them: declared besides what the manifest declares.
#
# An answer is one JSON object:
#   {"resources": [{"type", "title", "parameters"}...],
#    "edges": [{"from", "to", "kind"}...],
#    "contains": [{"container", "resource"}...],
#    "warnings": [TEXT...]}
# or, when Puppet cannot compile the catalog, {"errors": [TEXT...],
# "warnings": [...]}, each error with Puppet's file, line and column.
#
# Resources are those of the compiled catalog (Puppet::Parser::Compiler.compile,
# as a server compiles one; virtual resources not realized are not in it),
# their parameters stringified as `puppet catalog` does with rich data off,
# without the relationship metaparameters. Those become the edges: `before`
# and `require` give kind "before", `notify` and `subscribe` kind "notify",
# always oriented from the resource applied first. Chaining arrows (`->`,
# `~>`, with resource references or collectors) are evaluated by the compiler
# into the same metaparameters (Puppet::Parser::Relationship#mk_relationship,
# called from Compiler#finish), so they are there too. Containment (a class
# holding its resources) is not an edge: it is in "contains", each
# container with what it holds directly. Every end is the canonical
# reference of a catalog resource (`File[/tmp/x]`, `Class[Foo::Bar]`), as
# the compiler's RelationshipValidator has checked it exists.

require 'puppet'
require 'json'
require 'yaml'
require 'optparse'

RELATIONSHIP_METAPARAMETERS = {
  'before' => ['before', :forward],
  'require' => ['before', :backward],
  'notify' => ['notify', :forward],
  'subscribe' => ['notify', :backward],
}.freeze

def options_from(argv)
  options = {}
  OptionParser.new do |parser|
    parser.banner = 'usage: compile_catalog.rb --workdir DIR (--batch | --manifest FILE ' \
                    '--modulepath DIRS --facts FILE --hiera-config FILE [--node NAME])'
    parser.on('--workdir DIR') { |value| options[:workdir] = File.expand_path(value) }
    parser.on('--batch') { options[:batch] = true }
    parser.on('--manifest FILE') { |value| options[:manifest] = value }
    parser.on('--modulepath DIRS') { |value| options[:modulepath] = value.split(File::PATH_SEPARATOR) }
    parser.on('--facts FILE') { |value| options[:facts] = value }
    parser.on('--hiera-config FILE') { |value| options[:hiera_config] = value }
    parser.on('--node NAME') { |value| options[:node] = value }
  end.parse!(argv)
  needed = options[:batch] ? %i[workdir] : %i[workdir manifest modulepath facts hiera_config]
  missing = needed.reject { |key| options[key] }
  abort("compile_catalog.rb: missing --#{missing.map { |key| key.to_s.tr('_', '-') }.join(', --')}") unless missing.empty?
  options
end

# The request the command line makes (facts read from their file).
def request_from(options)
  facts = YAML.safe_load(File.read(options[:facts]))
  {
    'manifest' => options[:manifest], 'modulepath' => options[:modulepath], 'facts' => facts,
    'hiera_config' => options[:hiera_config], 'node' => options[:node]
  }
rescue Psych::Exception, SystemCallError => error
  abort("compile_catalog.rb: #{options[:facts]}: #{error.message}")
end

def reference_of(catalog, value)
  target = catalog.resource(value.to_s)
  target ? target.ref : value.to_s
end

def edges_of(catalog)
  catalog.resources.flat_map do |resource|
    RELATIONSHIP_METAPARAMETERS.flat_map do |parameter, (kind, direction)|
      # Not Array(): a Puppet::Resource is Enumerable (over its parameters).
      values = resource[parameter]
      values = values.is_a?(Array) ? values.flatten : [values]
      values.reject { |value| value.nil? || value == :undef }.map do |value|
        other = reference_of(catalog, value)
        from, to = direction == :forward ? [resource.ref, other] : [other, resource.ref]
        { 'from' => from, 'to' => to, 'kind' => kind }
      end
    end
  end.uniq
end

# Containment: each container (a class, a defined resource, a stage) and
# a resource it holds directly.
def containment_of(catalog)
  catalog.edges.map { |edge| { 'container' => edge.source.ref, 'resource' => edge.target.ref } }.uniq
end

def resources_of(catalog)
  Puppet.override(stringify_rich: true) do
    catalog.resources.map do |resource|
      data = resource.to_data_hash
      parameters = (data['parameters'] || {}).reject { |name, _| RELATIONSHIP_METAPARAMETERS.key?(name) }
      { 'type' => data['type'], 'title' => data['title'], 'parameters' => parameters }
    end
  end
end

# Each compilation gets an environment of its own name, so that nothing
# Puppet caches per environment (loaders, parsed manifests) is shared.
def compile(request, number)
  facts = request['facts'] || {}
  raise ArgumentError, 'the facts are not a hash' unless facts.is_a?(Hash)

  Puppet[:hiera_config] = File.expand_path(request['hiera_config'])
  name = request['node'] || facts['fqdn'] || facts.dig('networking', 'fqdn') || 'granule.test'
  modulepath = request['modulepath'].map { |dir| File.expand_path(dir) }
  environment = Puppet::Node::Environment.create(:"granule#{number}", modulepath, File.expand_path(request['manifest']))
  node = Puppet::Node.new(name, environment: environment, classes: request['classes'] || [])
  # As `puppet apply` adds it (Facts#add_local_facts): $trusted['certname']
  # comes from it.
  node.fact_merge(Puppet::Node::Facts.new(name, { 'clientcert' => name }.merge(facts)))
  overrides = { current_environment: environment, environments: Puppet::Environments::Static.new(environment) }
  # The autoloader finds a module's types and providers (cs_property/crm)
  # through the environment this setting names, not the current one.
  Puppet[:environment] = environment.name.to_s
  Puppet.override(overrides, 'granule catalog oracle') do
    catalog = Puppet::Parser::Compiler.compile(node)
    { 'resources' => resources_of(catalog), 'edges' => edges_of(catalog),
      'contains' => containment_of(catalog) }
  end
rescue Puppet::Error, ArgumentError, SystemCallError => error
  { 'errors' => [error.message] }
end

# Errors are logged too (Compiler.compile logs the exception it raises):
# they are in "errors" already.
def warnings_in(logs)
  logs.select { |log| log.level == :warning }.map do |log|
    [log.file && [log.file, log.line].compact.join(':'), log.message].compact.join(': ')
  end
end

options = options_from(ARGV)
work = options[:workdir]
Puppet.initialize_settings(
  %w[confdir vardir codedir logdir rundir publicdir].flat_map { |setting| ["--#{setting}", File.join(work, setting)] }
)
logs = []
Puppet::Util::Log.newdestination(Puppet::Test::LogCollector.new(logs))
Puppet::Util::Log.level = :warning
requests = options[:batch] ? $stdin.each_line.reject { |line| line.strip.empty? }.map { |line| JSON.parse(line) } : [request_from(options)]
requests.each_with_index do |request, number|
  logs.clear
  answer = compile(request, number)
  answer['warnings'] = warnings_in(logs)
  puts JSON.generate(answer)
  $stdout.flush
end
