# JCode Watcher: one run log per executed notebook cell.
#
# An IPython startup file (for the student's kernel; see README.md in this
# directory). After every executed cell it starts one tiny marker process,
# /bin/true with the outcome in its argv:
#
#   jcw-cell <notebook path> <execution count> ok|error <duration us> [<exception type> <message>]
#
# jcw-collector sees that exec and exit from the kernel, in the student's own
# container, so the run log's identity (the container's UTS hostname) and its
# time (the marker's exit) come from the kernel, and the notebook needs no
# network path to anything. The forwarder's built-in rule turns the marker
# into the run log (docs/api.md, "Notebook cells").
#
# Nothing of the cell's source is sent. The hook never raises into the
# notebook, prints nothing, and costs about a process start per cell (the
# figure is in `make bench`); without a monitor on the node the marker is an
# ordinary /bin/true.


def _jcw_cell_hook():
    import os
    import time

    try:
        ip = get_ipython()  # noqa: F821 (defined in IPython startup files)
    except NameError:
        return
    if ip is None:
        return
    marker = next((p for p in ("/usr/bin/true", "/bin/true") if os.access(p, os.X_OK)), None)
    if marker is None:
        return
    started = [None]

    def clean(s, limit=200):
        # argv cannot hold NUL; one line, an exception's message kept short.
        return str(s).replace("\0", "?").replace("\n", " ")[:limit]

    def notebook_path():
        # VS Code's Jupyter extension names the notebook in the user
        # namespace; Jupyter Server in the kernel's environment (relative to
        # its root, and the kernel starts in the notebook's directory).
        p = ip.user_ns.get("__vsc_ipynb_file__")
        if isinstance(p, str) and p:
            return p
        p = os.environ.get("JPY_SESSION_NAME")
        if p:
            return p if os.path.isabs(p) else os.path.join(os.getcwd(), os.path.basename(p))
        return os.getcwd()

    def pre_run_cell(info=None):
        started[0] = time.monotonic_ns()

    def post_run_cell(result):
        try:
            count = getattr(result, "execution_count", None)
            info = getattr(result, "info", None)
            if count is None or getattr(info, "silent", False):
                return  # not a cell the student ran (widgets, comms)
            t0, started[0] = started[0], None
            us = (time.monotonic_ns() - t0) // 1000 if t0 else 0
            argv = ["jcw-cell", clean(notebook_path(), 4096), str(count),
                    "ok" if result.success else "error", str(us)]
            err = result.error_in_exec or result.error_before_exec
            if not result.success and err is not None:
                argv += [clean(type(err).__name__), clean(err)]
            # Reaped at once: left for later, a student's own os.wait()
            # could receive the marker instead of their child.
            os.waitpid(os.posix_spawn(marker, argv, {}), 0)
        except Exception:
            pass  # never the student's problem

    ip.events.register("pre_run_cell", pre_run_cell)
    ip.events.register("post_run_cell", post_run_cell)


_jcw_cell_hook()
del _jcw_cell_hook
