# granule's readiness test for Ansible, written by `granule export ansible`.
#
# `granule_ready` says whether a task may start on a host now: the host runs
# it in this plan, an earlier run did not finish it already, the run is not
# stopping, and every task it needs (on any host) is done. Done means:
# finished by an earlier run (`granule_done_before`, from granule's journal),
# or succeeded in this run (the host's `granule_done` fact, set as a task's
# last step). Sync points and tasks the plan skips pass through: they are done
# when what they need is. A task whose need failed is therefore never ready,
# on any host. A task that has started on a host goes through all its steps.
#
# Stopping, as granule's own runner stops: once more nodes of a group have
# failed than its `fault_tolerance` allows, after the first failure under
# --fail-fast, or once the --stop-after task has ended on every node, no task
# starts any more (those running finish). The hosts work in Ansible's worker
# processes, so failures and the stop are shared through files in the run's
# control directory: `failed/INSTANCE`, `finished/INSTANCE` and `stop`.
import json
import multiprocessing
import os

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GRAPH = os.path.join(PROJECT, "granule_graph.json")
# Set by `granule run --engine ansible`: its control directory, holding
# run.json (fail_fast, the instances --stop-after holds back and waits for).
CONTROL_VARIABLE = "GRANULE_CONTROL"
_graph = None
_control = None


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
        tolerances = [
            (group, budget, allowed, {nodes[node] for node in members})
            for group, budget, allowed, members in raw["tolerances"]
        ]
        _graph = (instances, index, tolerances)
    return _graph


def _start_time(pid):
    try:
        with open("/proc/%d/stat" % pid, encoding="ascii") as stat:
            # Field 22, counted after the command name (which may hold spaces).
            return stat.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return "0"


def _control_state():
    """The control directory and the run's settings, once per process."""
    global _control
    if _control is None:
        directory = os.environ.get(CONTROL_VARIABLE)
        settings = {}
        if directory:
            try:
                with open(os.path.join(directory, "run.json"), encoding="utf-8") as source:
                    settings = json.load(source)
            except FileNotFoundError:
                pass
        else:
            # A playbook run by hand: one directory per ansible-playbook
            # process (the parent of the workers this runs in), so that a run
            # never counts the failures of an earlier one.
            parent = multiprocessing.parent_process()
            pid = parent.pid if parent else os.getpid()
            directory = os.path.join(PROJECT, "runs", "%d-%s" % (pid, _start_time(pid)))
        _control = (
            directory,
            bool(settings.get("fail_fast")),
            set(settings.get("held") or ()),
            set(settings.get("stop_after") or ()),
        )
    return _control


def _watching():
    """Whether anything in this run stops on failures or completions."""
    _, fail_fast, _, stop_after = _control_state()
    return fail_fast or bool(stop_after) or bool(_load()[2])


def _mark(kind, at):
    directory = os.path.join(_control_state()[0], kind)
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, str(at)), "w", encoding="ascii"):
        pass


def _marked(kind):
    try:
        return {int(name) for name in os.listdir(os.path.join(_control_state()[0], kind))}
    except FileNotFoundError:
        return set()


def _stop(outcome, reason):
    path = os.path.join(_control_state()[0], "stop")
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return  # another worker stopped the run first
    with os.fdopen(descriptor, "w", encoding="utf-8") as stop:
        json.dump({"outcome": outcome, "reason": reason}, stop)


def _stopping(done_before):
    """Whether the run stops: true once a stop condition has been met."""
    if not _watching():
        return False
    directory, fail_fast, _, stop_after = _control_state()
    if os.path.exists(os.path.join(directory, "stop")):
        return True
    instances, _, tolerances = _load()
    failed = _marked("failed")
    if failed and fail_fast:
        _stop("failed", "a task failed and --fail-fast is set")
        return True
    failed_nodes = {instances[at][0] for at in failed}
    for group, budget, allowed, members in tolerances:
        if len(failed_nodes & members) > allowed:
            _stop(
                "failed",
                "more nodes of group `%s` failed than its fault_tolerance (%s) allows"
                % (group, budget),
            )
            return True
    if stop_after:
        ended = failed | _marked("finished")
        if all(
            at in ended
            or instances[at][1] in done_before.get(instances[at][0], ())
            or _after_failure(at, failed, instances)
            for at in stop_after
        ):
            _stop("stopped", "--stop-after reached")
            return True
    return False


def _after_failure(at, failed, instances):
    """Whether a failure before the instance keeps it from ever starting
    (granule's runner ends it `dependency-failed`)."""
    stack, seen = list(instances[at][3]), set()
    while failed and stack:
        need = stack.pop()
        if need in failed:
            return True
        if need not in seen:
            seen.add(need)
            stack.extend(instances[need][3])
    return False


def granule_ready(task, host, hostvars, done_before, current=None):
    if current == task:
        return True  # started: its remaining steps run
    instances, index, _ = _load()
    at = index.get((str(host), str(task)))
    if at is None or not instances[at][2]:
        return False
    done_before = done_before or {}
    if task in done_before.get(host, ()) or at in _control_state()[2]:
        return False
    if _stopping(done_before):
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


def granule_failed(task, host):
    """Records that the task failed on the host (its block's rescue)."""
    if _watching():
        _mark("failed", _load()[1][(str(host), str(task))])
    return True


def granule_finished(done, task, host):
    """The host's finished tasks with this one; records it for --stop-after."""
    at = _load()[1].get((str(host), str(task)))
    if at in _control_state()[3]:
        _mark("finished", at)
    return list(done or ()) + [task]


class FilterModule:
    def filters(self):
        return {
            "granule_ready": granule_ready,
            "granule_failed": granule_failed,
            "granule_finished": granule_finished,
        }
