# granule's journal callback for Ansible, written by `granule export ansible`
# and enabled by `granule run --engine ansible` (ANSIBLE_STDOUT_CALLBACK).
#
# Each state change of a granule task on a host is appended to granule's
# journal (GRANULE_JOURNAL) and made durable (fsync) as soon as Ansible
# reports it, then printed on stdout for granule's progress view. Each step's
# output goes to the task's log under GRANULE_STATE_DIR/logs, as with
# granule's own runner.
import importlib.util
import json
import os
import sys
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
    name: granule
    type: stdout
    short_description: granule's journal, one JSON line per task state
    description:
      - Writes granule journal records (running, succeeded, failed, failed-precondition).
"""


# The exit statuses of coreutils `timeout`, which ends a command at its
# time limit on the node: 124 after SIGTERM, 137 when SIGKILL was needed.
TIMED_OUT = (124, 137)


def _timestamp():
    now = time.time()
    micros = int((now % 1) * 1_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + ".%06dZ" % micros


def _safe(name):
    return "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "_" for c in name)


def _part(result, name):
    # ansible-core 2.19 names them without the underscore; older ones with it.
    value = getattr(result, name, None)
    return value if value is not None else getattr(result, "_" + name)


_filter = None


def _readiness():
    """granule's filter plugin, beside this one: it keeps the run's failures."""
    global _filter
    if _filter is None:
        path = os.path.join(
            os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
            "filter_plugins", "granule.py",
        )
        spec = importlib.util.spec_from_file_location("granule_readiness", path)
        _filter = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(_filter)
    return _filter


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "stdout"
    CALLBACK_NAME = "granule"

    def __init__(self):
        super().__init__()
        self.run = int(os.environ.get("GRANULE_RUN", "1"))
        self.state_dir = os.environ.get("GRANULE_STATE_DIR")
        path = os.environ.get("GRANULE_JOURNAL")
        self.journal = open(path, "a", encoding="utf-8") if path else None
        self.started = {}

    def _step(self, task):
        variables = task.vars or {}
        return variables.get("granule_task"), variables.get("granule_step")

    def _record(self, host, task, state, **fields):
        record = {"event": "state", "ts": _timestamp(), "run": self.run,
                  "node": host, "task": task, "state": state}
        record.update({key: value for key, value in fields.items() if value is not None})
        line = json.dumps(record, separators=(",", ":"))
        if self.journal:
            self.journal.write(line + "\n")
            self.journal.flush()
            os.fsync(self.journal.fileno())
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    def _log(self, host, task, lines):
        if not self.state_dir:
            return
        directory = os.path.join(self.state_dir, "logs", _safe(host))
        os.makedirs(directory, exist_ok=True)
        with open(os.path.join(directory, _safe(task) + ".log"), "a", encoding="utf-8") as log:
            for stream, text in lines:
                log.write("%s %s| %s\n" % (_timestamp(), stream, text))

    def _output(self, host, task, step, result):
        if step == "start":
            return
        lines = [("granule", "ansible: %s" % step)]
        if result.get("cmd"):
            command = result["cmd"]
            lines.append(("granule", "$ " + (command if isinstance(command, str) else " ".join(command))))
        lines += [("out", line) for line in result.get("stdout_lines") or ()]
        lines += [("err", line) for line in result.get("stderr_lines") or ()]
        lines += [("err", line) for line in str(result.get("module_stderr") or "").splitlines()]
        if result.get("msg") and result.get("failed"):
            lines.append(("granule", str(result["msg"])))
        self._log(host, task, lines)

    def _finished(self, result, failed):
        name, step = self._step(_part(result, "task"))
        if name is None:
            return
        host = _part(result, "host").get_name()
        outcome = _part(result, "result")
        self._output(host, name, step, outcome)
        if not failed and step == "start":
            # Only a task that passed its `when` gets here: a skipped one
            # is reported skipped, and is no start.
            self.started[(host, name)] = time.monotonic()
            self._record(host, name, "running", attempt=1)
            return
        if not failed and step != "done":
            return
        began = self.started.pop((host, name), None)
        duration = None if began is None else round(time.monotonic() - began, 6)
        attempt = (outcome.get("attempts") or 1) if step == "action" else None
        if not failed:
            self._record(host, name, "succeeded", duration=duration)
            return
        message = str(outcome.get("msg") or "failed")
        limit = (_part(result, "task").vars or {}).get("granule_timeout")
        if limit and outcome.get("rc") in TIMED_OUT:
            message = "timed out after %ss" % limit
        elif "expected time frame" in message or "timed out after" in message.lower():
            message = "timed out after %ss" % (limit or _part(result, "task").timeout)
        elif outcome.get("rc") is not None:
            message = "failed (exit %s)" % outcome["rc"]
        if step in ("test_pre", "test_post"):
            message = "%s %s" % (step, message)
        state = "failed-precondition" if step == "test_pre" else "failed"
        self._record(host, name, state, attempt=attempt, exit_code=outcome.get("rc"),
                     duration=duration, message=message)

    def v2_runner_on_ok(self, result):
        self._finished(result, failed=False)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._finished(result, failed=True)

    def v2_runner_on_unreachable(self, result):
        outcome = _part(result, "result")
        outcome.setdefault("msg", "unreachable")
        outcome["msg"] = "unreachable: %s" % outcome["msg"]
        self._finished(result, failed=True)
        # Ansible takes the host out of the play, past the block's rescue:
        # the failure is recorded here for the stop conditions instead.
        name, _ = self._step(_part(result, "task"))
        if name is not None:
            _readiness().granule_failed(name, _part(result, "host").get_name())

    def v2_runner_retry(self, result):
        name, step = self._step(_part(result, "task"))
        if name is None:
            return
        host = _part(result, "host").get_name()
        outcome = _part(result, "result")
        self._output(host, name, step, outcome)
        attempt = int(outcome.get("attempts") or 1) + 1
        self._record(host, name, "running", attempt=attempt,
                     message="attempt %d failed; retrying" % (attempt - 1))
