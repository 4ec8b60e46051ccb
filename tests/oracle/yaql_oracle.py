"""The `yaql` library's value for each expression, with Nailgun's functions.

Reads {"documents": [...], "cases": [{"expr", "data", "previous"}]} as JSON
on stdin, where a case's data and previous data are numbers of documents
(previous: null when there was no previous deployment), and prints one JSON
result per case: {"value": ...} or {"error": "..."}.

`yaql` lacks the functions Nailgun registered for Fuel's task conditions;
they are defined here after their documented meaning: the expression is
evaluated on the node's new data and on the previous deployment's (`{}`
when there was none); a failure on the previous data makes it undefined,
which differs from any value.
"""

import collections.abc  # noqa: F401  yaql 3 on Python 3.11 needs it loaded
import difflib
import json
import sys

import yaml
import yaql
from yaql.language import specs, utils, yaqltypes

UNDEFINED = object()


def on_new(expression, context):
    return expression(context['$%new'])


def on_old(expression, context):
    try:
        return expression(context['$%old'])
    except Exception:
        return UNDEFINED


def differs(finalizer, expression, context):
    return finalizer(on_new(expression, context)) != finalizer(on_old(expression, context))


def hashable(value):
    if isinstance(value, collections.abc.Mapping):
        return frozenset((key, hashable(item)) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return tuple(hashable(item) for item in value)
    return value


def data_diff(old, new):
    """Nailgun's datadiff: (added, deleted), one level deep."""
    # Nailgun diffed any other iterables (yaql's lazy results) as lists.
    def as_list(value):
        if isinstance(value, collections.abc.Iterable) and not isinstance(
                value, (str, collections.abc.Mapping, collections.abc.Set)):
            return list(value)
        return value
    old, new = as_list(old), as_list(new)
    if type(old) is not type(new) or not isinstance(
            old, (str, list, collections.abc.Mapping)):
        return (None, None) if old == new else (new, old)
    if isinstance(old, collections.abc.Mapping):
        added = {k: v for k, v in new.items() if k not in old or old[k] != v}
        deleted = {k: v for k, v in old.items() if k not in new or new[k] != v}
        return added, deleted
    if isinstance(old, str):
        old, new = old.splitlines(), new.splitlines()
    matcher = difflib.SequenceMatcher(a=[hashable(x) for x in old],
                                      b=[hashable(x) for x in new], autojunk=False)
    added, deleted = [], []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag in ('insert', 'replace'):
            added.extend(new[j1:j2])
        if tag in ('delete', 'replace'):
            deleted.extend(old[i1:i2])
    return added, deleted


def limited(value, engine):
    if utils.is_sequence(value) or isinstance(value, (utils.MappingType, utils.SetType)):
        return utils.limit_iterable(value, engine)
    return value


@specs.parameter('expression', yaqltypes.Lambda())
@specs.name('new')
def new_(expression, context):
    return on_new(expression, context)


@specs.parameter('expression', yaqltypes.Lambda())
@specs.name('old')
def old_(expression, context):
    return on_old(expression, context)


@specs.parameter('expression', yaqltypes.Lambda())
@specs.inject('finalizer', yaqltypes.Delegate('#finalize'))
@specs.name('changed')
def changed(finalizer, expression, context):
    return differs(finalizer, expression, context)


@specs.parameter('expressions', yaqltypes.Lambda())
@specs.inject('finalizer', yaqltypes.Delegate('#finalize'))
@specs.name('changedAny')
def changed_any(finalizer, context, *expressions):
    return any(differs(finalizer, e, context) for e in expressions)


@specs.parameter('expressions', yaqltypes.Lambda())
@specs.inject('finalizer', yaqltypes.Delegate('#finalize'))
@specs.name('changedAll')
def changed_all(finalizer, context, *expressions):
    return all(differs(finalizer, e, context) for e in expressions)


@specs.parameter('expression', yaqltypes.Lambda())
@specs.name('added')
def added(expression, context, engine):
    new = limited(on_new(expression, context), engine)
    old = limited(on_old(expression, context), engine)
    return new if old is UNDEFINED else data_diff(old, new)[0]


@specs.parameter('expression', yaqltypes.Lambda())
@specs.name('deleted')
def deleted(expression, context, engine):
    new = limited(on_new(expression, context), engine)
    old = limited(on_old(expression, context), engine)
    return None if old is UNDEFINED else data_diff(old, new)[1]


@specs.method
@specs.inject('finalizer', yaqltypes.Delegate('#finalize'))
@specs.name('isUndef')
def is_undef(finalizer, receiver):
    return finalizer(receiver) is UNDEFINED


@specs.method
@specs.inject('finalizer', yaqltypes.Delegate('#finalize'))
@specs.name('toYaml')
def to_yaml(finalizer, receiver):
    return yaml.safe_dump(plain(finalizer(receiver)), default_flow_style=False)


def plain(value):
    """yaql's frozen containers as JSON-able Python values."""
    if value is UNDEFINED:
        return {'$undefined': True}
    if isinstance(value, collections.abc.Mapping):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, collections.abc.Set)):
        return [plain(item) for item in value]
    return value


def main():
    engine = yaql.factory.YaqlFactory().create(options={
        'yaql.limitIterators': 5000,
        'yaql.memoryQuota': 20000,
        'yaql.convertTuplesToLists': True,
        'yaql.convertSetsToLists': True,
    })
    root = yaql.create_context()
    for function in (new_, old_, changed, changed_any, changed_all, added,
                     deleted, is_undef, to_yaml):
        root.register_function(function)
    request = json.load(sys.stdin)
    documents = request['documents']
    for case in request['cases']:
        data = documents[case['data']]
        previous = documents[case['previous']] if case['previous'] is not None else {}
        context = root.create_child_context()
        context['$%new'] = data
        context['$%old'] = previous
        context['$node'] = data
        context['$common'] = data
        try:
            value = engine(case['expr']).evaluate(data=data, context=context)
            result = {'value': plain(value)}
        except Exception as error:  # every failure is an answer to compare
            result = {'error': '%s: %s' % (type(error).__name__, error)}
        print(json.dumps(result, sort_keys=False))


if __name__ == '__main__':
    main()
