#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Runs ci/action.yml's steps the way a GitHub-hosted runner would, and checks what GitHub
would show: `::error` annotations on the right repository-relative lines, a step summary, the
reports artifact.

As GitHub does: the steps run as an unprivileged user with passwordless sudo under Debian's
default sudoers (env_reset: sudo drops GITHUB_*), with GITHUB_ACTIONS, GITHUB_WORKSPACE,
GITHUB_STEP_SUMMARY, GITHUB_OUTPUT, GITHUB_ACTION_PATH and RUNNER_TEMP set, each `run` step in
`bash --noprofile --norc -eo pipefail`, a failed step skipping the rest but for `if: always()`.
The action's checkout is a copy of this source tree (as GitHub unpacks an action's tarball);
the workspace is a small repository of its own (tests/action: blocking-tasks and the crates it
uses, a default release profile with line tables), built by cargo like a user's job would.
actions/cache/{restore,save} and actions/upload-artifact are emulated with folders. The job runs
twice: the first builds tokio-guard (cache miss), the second restores it (cache hit).

Usage (root): tests/action/emulate_runner.py SOURCE_DIR WORK_DIR
Ground truth: the culprit lines are the `// guard:<kind>` markers in blocking-kinds' source.
Exit 0 when every check holds, 1 with one line per failed check, 77 when it cannot run here.
"""
import os
import pwd
import re
import shutil
import subprocess
import sys

import yaml

USER = "tgrunner"
FAILED = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        FAILED.append(what)
    return ok


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def make_runner_user():
    if shutil.which("sudo") is None or shutil.which("runuser") is None:
        print("emulate_runner: sudo is not installed (apt-get install sudo)", file=sys.stderr)
        sys.exit(77)
    try:
        pwd.getpwnam(USER)
    except KeyError:
        sh(["useradd", "--create-home", "--shell", "/bin/bash", USER])
    # GitHub's runner image: passwordless sudo for the runner user, Debian's sudoers otherwise
    with open(f"/etc/sudoers.d/{USER}", "w") as f:
        f.write(f"{USER} ALL=(ALL) NOPASSWD:ALL\n")
    os.chmod(f"/etc/sudoers.d/{USER}", 0o440)
    return pwd.getpwnam(USER)


def copy_tree(src, dst, names):
    os.makedirs(dst, exist_ok=True)
    for n in names:
        s, d = os.path.join(src, n), os.path.join(dst, n)
        if os.path.isdir(s):
            shutil.copytree(s, d, dirs_exist_ok=True, ignore=shutil.ignore_patterns("target", "build*"))
        else:
            os.makedirs(os.path.dirname(d), exist_ok=True)
            shutil.copy2(s, d)


def action_checkout(source, dst):
    """The action as GitHub unpacks it: the repository's files at the ref, no .git."""
    files = subprocess.run(["git", "-C", source, "ls-files", "--cached", "--others", "--exclude-standard"],
                           check=True, capture_output=True, text=True).stdout.split("\n")
    shutil.rmtree(dst, ignore_errors=True)
    copy_tree(source, dst, [f for f in files if f and not f.startswith("examples/") and
                            os.path.isfile(os.path.join(source, f))])


def user_repository(source, ws, target_dir):
    """A repository of the user's: blocking-tasks as their service, built by their job."""
    ex = os.path.join(source, "examples")
    copy_tree(ex, ws, ["blocking-kinds", "blocking-tasks", "ground-truth", "Cargo.lock"])
    for f in ("Cargo.toml", "guard.yaml"):
        shutil.copy2(os.path.join(source, "tests/action", f), os.path.join(ws, f))
    os.makedirs(os.path.join(ws, ".git"), exist_ok=True)  # a checkout: the git top level
    cargo = shutil.which("cargo") or os.path.expanduser("~/.cargo/bin/cargo")
    env = dict(os.environ, CARGO_TARGET_DIR=target_dir, RUSTFLAGS="")
    sh([cargo, "build", "--release", "-q", "-p", "blocking-tasks"], cwd=ws, env=env)
    os.makedirs(os.path.join(ws, "target/release"), exist_ok=True)
    shutil.copy2(os.path.join(target_dir, "release/blocking-tasks"), os.path.join(ws, "target/release"))


EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


class Job:
    def __init__(self, home, ws, action_dir, store, artifacts):
        self.home, self.ws, self.action_dir = home, ws, action_dir
        self.store, self.artifacts = store, artifacts
        self.temp = os.path.join(home, "work/_temp")
        self.summary = os.path.join(self.temp, "_runner_file_commands/step_summary")
        self.inputs, self.steps, self.failed = {}, {}, False
        self.log = []

    def value(self, ref):
        ref = ref.strip()
        m = re.fullmatch(r"'(.*)'", ref)
        if m:
            return m.group(1)
        parts = ref.split(".")
        if parts[0] == "inputs":
            return self.inputs.get(parts[1], "")
        if parts[0] == "steps" and len(parts) == 4 and parts[2] == "outputs":
            return self.steps.get(parts[1], {}).get(parts[3], "")
        if ref == "runner.temp":
            return self.temp
        if ref == "github.action_path":
            return self.action_dir
        if ref == "github.workspace":
            return self.ws
        raise ValueError(f"expression not emulated: {ref}")

    def expr(self, e):
        """The few expression forms ci/action.yml uses."""
        e = e.strip()
        if e in ("always()",):
            return True
        if e in ("success()",):
            return not self.failed
        if e in ("failure()",):
            return self.failed
        m = re.fullmatch(r"(.+?)\s*(!=|==)\s*(.+)", e)
        if m:
            a, b = self.value(m.group(1)), self.value(m.group(3))
            return (a == b) == (m.group(2) == "==")
        return self.value(e)

    def subst(self, s):
        def one(m):
            v = self.expr(m.group(1))
            return ("true" if v else "false") if isinstance(v, bool) else str(v)
        return EXPR.sub(one, str(s))

    def should_run(self, step):
        cond = step.get("if")
        if cond is None:
            return not self.failed
        cond = cond.strip()
        inner = EXPR.fullmatch(cond)
        v = self.expr(inner.group(1) if inner else cond)
        # a condition without a status function runs only after success, as GitHub's does
        if not re.search(r"always\(\)|failure\(\)|cancelled\(\)", cond):
            v = v and not self.failed
        return bool(v)

    def env(self, step, output):
        env = {
            "HOME": self.home, "USER": USER, "LOGNAME": USER, "SHELL": "/bin/bash",
            "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "CI": "true", "GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": self.ws,
            "GITHUB_STEP_SUMMARY": self.summary, "GITHUB_OUTPUT": output,
            "GITHUB_ACTION_PATH": self.action_dir, "RUNNER_TEMP": self.temp, "RUNNER_OS": "Linux",
            "GITHUB_REPOSITORY": "demo/demo", "GITHUB_SHA": "0" * 40, "LANG": "C.UTF-8",
        }
        for k, v in (step.get("env") or {}).items():
            env[k] = self.subst(v)
        return env

    def run_step(self, sid, step):
        output = os.path.join(self.temp, f"_runner_file_commands/output_{len(self.log)}")
        open(output, "w").close()
        os.chown(output, *self.ids)
        script = os.path.join(self.temp, f"step_{len(self.log)}.sh")
        with open(script, "w") as f:
            f.write(self.subst(step["run"]) + "\n")
        os.chown(script, *self.ids)
        cwd = os.path.normpath(os.path.join(self.ws, self.subst(step.get("working-directory", "."))))
        env = self.env(step, output)
        p = subprocess.run(["runuser", "-u", USER, "--", "env", "-i"] +
                           [f"{k}={v}" for k, v in env.items()] +
                           ["bash", "--noprofile", "--norc", "-eo", "pipefail", script],
                           cwd=cwd, capture_output=True, text=True)
        outs = {}
        for line in open(output).read().splitlines():
            if "=" in line:
                k, v = line.split("=", 1)
                outs[k] = v
        self.steps[sid] = outs
        self.log.append((step.get("name", sid), p.returncode, p.stdout, p.stderr))
        return p.returncode

    def uses_step(self, sid, step):
        uses, w = step["uses"], {k: self.subst(v) for k, v in (step.get("with") or {}).items()}
        outs = {}
        if uses.startswith("actions/cache/restore@"):
            saved = os.path.join(self.store, w["key"])
            hit = os.path.isdir(saved)
            if hit:  # tar does not keep file capabilities: neither does this copy
                shutil.rmtree(w["path"], ignore_errors=True)
                sh(["runuser", "-u", USER, "--", "cp", "-r", saved, w["path"]])
            outs["cache-hit"] = "true" if hit else "false"
        elif uses.startswith("actions/cache/save@"):
            saved = os.path.join(self.store, w["key"])
            if not os.path.isdir(saved):
                shutil.copytree(w["path"], saved)
        elif uses.startswith("actions/upload-artifact@"):
            dst = os.path.join(self.artifacts, w["name"])
            shutil.rmtree(dst, ignore_errors=True)
            if w.get("path") and os.path.isdir(w["path"]):
                shutil.copytree(w["path"], dst)
        else:
            raise ValueError(f"action not emulated: {uses}")
        self.steps[sid] = outs
        self.log.append((step.get("name", sid), 0, "", ""))
        return 0

    def run(self, action, inputs, ids):
        self.ids = ids
        for k, spec in (action.get("inputs") or {}).items():
            self.inputs[k] = str(inputs.get(k, spec.get("default", "")))
        shutil.rmtree(self.temp, ignore_errors=True)
        os.makedirs(os.path.dirname(self.summary))
        open(self.summary, "w").close()
        sh(["chown", "-R", f"{ids[0]}:{ids[1]}", os.path.join(self.home, "work")])
        ran = []
        for i, step in enumerate(action["runs"]["steps"]):
            sid = step.get("id", f"__{i}")
            if not self.should_run(step):
                continue
            rc = self.run_step(sid, step) if "run" in step else self.uses_step(sid, step)
            ran.append(step.get("name", sid))
            if rc != 0:
                self.failed = True
        return ran


def culprit_lines(ws):
    lines = {}
    for n, text in enumerate(open(os.path.join(ws, "blocking-kinds/src/lib.rs")), 1):
        m = re.search(r"// guard:(\w+)", text)
        if m:
            lines[m.group(1)] = n
    return lines


def annotations(stdout):
    out = []
    for line in stdout.splitlines():
        m = re.match(r"::(error|warning) (.*?)::(.*)", line)
        if m:
            props = dict(p.split("=", 1) for p in m.group(2).split(",") if "=" in p)
            out.append((m.group(1), props, m.group(3)))
    return out


def check_job(job, ran, ws, marks, first):
    names = {n: (rc, so, se) for n, rc, so, se in job.log}
    check(("Build tokio-guard" in ran) == first,
          "build step " + ("ran (cache miss)" if first else "skipped (cache hit)"))
    run = names.get("Run tokio-guard")
    if not check(run is not None, "the run step ran"):
        return
    rc, out, err = run
    check(job.steps["run"].get("exit-code") == "1" and rc == 1,
          f"run step failed with tokio-guard's exit 1 (got {rc}, output exit-code="
          f"{job.steps['run'].get('exit-code')}; stderr: {err.strip().splitlines()[-1:] if err else ''})")
    errs = [a for a in annotations(out) if a[0] == "error"]
    want = {"cpu": "burn_cpu", "sleep": "sleepy", "mutex": "lock_shared"}
    for kind, fn in want.items():
        hits = [a for a in errs if fn in a[1].get("title", "")]
        check(len(hits) == 1, f"one ::error for {fn} (got {len(hits)})")
        for _, p, _ in hits:
            check(p.get("file") == "blocking-kinds/src/lib.rs" and p.get("line") == str(marks[kind]),
                  f"{fn}: annotated at blocking-kinds/src/lib.rs:{marks[kind]} "
                  f"(got {p.get('file')}:{p.get('line')})")
    for _, p, _ in errs:
        f = p.get("file", "")
        check(f and not f.startswith(("/", "..")) and os.path.exists(os.path.join(ws, f)),
              f"annotation file {f!r} is a file of the repository")
    check(not any("ok_task" in a[1].get("title", "") for a in errs), "no annotation for the *_ok_task twins")
    md = open(job.summary).read()
    check("tokio-guard" in md and "| " in md, "step summary has tokio-guard's table")
    check("blocking-kinds/src/lib.rs:" in md and "../" not in md,
          "step summary names culprits from the repository's root")
    art = os.path.join(job.artifacts, "tokio-guard")
    for f in ("junit.xml", "results.json", "trace.json"):
        p = os.path.join(art, f)
        check(os.path.isfile(p), f"artifact has {f}")
    html = os.path.join(art, "report.html")
    if os.path.isfile(html):
        check("report.html" in md, "step summary points at report.html")
    out_dir = job.steps["run"].get("reports", "")
    check(out_dir and os.stat(out_dir).st_uid == job.ids[0], "reports are owned by the runner's user")
    junit = open(os.path.join(art, "junit.xml")).read() if os.path.isfile(os.path.join(art, "junit.xml")) else ""
    check('file="blocking-kinds/src/lib.rs"' in junit, "junit.xml file= attributes from the repository's root")


def sudo_drops_github_env():
    """Why the action does not use sudo: Debian's default sudoers resets the environment."""
    p = subprocess.run(["runuser", "-u", USER, "--", "env", "GITHUB_ACTIONS=true", "sudo", "-n", "env"],
                       capture_output=True, text=True)
    check(p.returncode == 0 and "GITHUB_ACTIONS" not in p.stdout,
          "plain sudo drops GITHUB_ACTIONS under Debian's default sudoers (the pitfall is real here)")


def main():
    if len(sys.argv) != 3:
        print(__doc__.split("\n\n")[-2], file=sys.stderr)
        return 2
    if os.geteuid() != 0:
        print("emulate_runner: run as root (it creates the runner's user)", file=sys.stderr)
        return 77
    source, work = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    user = make_runner_user()
    ids = (user.pw_uid, user.pw_gid)
    home = user.pw_dir
    ws = os.path.join(home, "work/demo/demo")
    action_root = os.path.join(home, "work/_actions/tokio-guard/v1")
    shutil.rmtree(os.path.join(home, "work"), ignore_errors=True)
    shutil.rmtree(os.path.join(home, ".cache/tokio-guard"), ignore_errors=True)
    os.makedirs(work, exist_ok=True)
    store = os.path.join(work, "cache-store")
    shutil.rmtree(store, ignore_errors=True)
    action_checkout(source, action_root)
    user_repository(source, ws, os.path.join(work, "cargo-target"))
    marks = culprit_lines(ws)
    action = yaml.safe_load(open(os.path.join(action_root, "ci/action.yml")))
    sudo_drops_github_env()
    for first in (True, False):
        print(f"--- job {'1 (cold cache)' if first else '2 (warm cache)'}", flush=True)
        job = Job(home, ws, os.path.join(action_root, "ci"), store, os.path.join(work, "artifacts"))
        shutil.rmtree(job.artifacts, ignore_errors=True)
        ran = job.run(action, {"spec": "guard.yaml"}, ids)
        for name, rc, out, err in job.log:
            if rc not in (0, 1) or (rc == 1 and name != "Run tokio-guard"):
                print(f"step {name!r} exited {rc}:\n{out[-3000:]}\n{err[-3000:]}", file=sys.stderr)
        check_job(job, ran, ws, marks, first)
    if FAILED:
        print(f"emulate_runner: {len(FAILED)} check(s) failed", file=sys.stderr)
        return 1
    print("emulate_runner: the action works as GitHub would run it")
    return 0


if __name__ == "__main__":
    try:
        rc = main()
    finally:  # leave no passwordless sudo account behind
        if os.path.exists(f"/etc/sudoers.d/{USER}"):
            os.remove(f"/etc/sudoers.d/{USER}")
    sys.exit(rc)
