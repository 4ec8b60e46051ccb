# granule's readiness test for Ansible, written by `granule export ansible`.
#
# `granule_ready` says whether a task may run on a host now: the host runs it
# in this plan, an earlier run did not finish it already, and every task it
# needs (on any host) is done. Done means: finished by an earlier run
# (`granule_done_before`, from granule's journal), or succeeded in this run
# (the host's `granule_done` fact, set as a task's last step). Sync points and
# tasks the plan skips pass through: they are done when what they need is.
# A task whose need failed is therefore never ready, on any host.
import json
import os

GRAPH = os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "granule_graph.json"
)
_graph = None


def _load():
    global _graph
    if _graph is None:
        with open(GRAPH, encoding="utf-8") as source:
            raw = json.load(source)
        nodes, tasks = raw["nodes"], raw["tasks"]
        instances = [
            (nodes[node], tasks[task], bool(run), needs)
            for node, task, run, needs in raw["instances"]
        ]
        index = {(node, task): at for at, (node, task, _, _) in enumerate(instances)}
        _graph = (instances, index)
    return _graph


def granule_ready(task, host, hostvars, done_before):
    instances, index = _load()
    at = index.get((str(host), str(task)))
    if at is None or not instances[at][2]:
        return False
    done_before = done_before or {}
    if task in done_before.get(host, ()):
        return False
    done_now = {}

    def done_on(node):
        if node not in done_now:
            try:
                done_now[node] = set(hostvars[node]["granule_done"] or ())
            except Exception:  # the host has finished nothing yet
                done_now[node] = set()
        return done_now[node]

    known = {}

    def satisfied(root):
        # Iterative depth-first walk: chains of sync points may be long.
        stack = [root]
        while stack:
            at = stack[-1]
            if at in known:
                stack.pop()
                continue
            node, name, run, needs = instances[at]
            if name in done_before.get(node, ()):
                known[at] = True
            elif run:
                known[at] = name in done_on(node)
            else:
                pending = [need for need in needs if need not in known]
                if pending:
                    stack.extend(pending)
                    continue
                known[at] = all(known[need] for need in needs)
            stack.pop()
        return known[root]

    return all(satisfied(need) for need in instances[at][3])


class FilterModule:
    def filters(self):
        return {"granule_ready": granule_ready}
