"""How the whole console starts: `python -m console.stack` (what `make run` calls).

servers.py knows how to start, probe and stop each real server (also used by the test fixtures);
supervisor.py starts them in order, prepares the database and OpenBao, then runs the web, worker
and beat processes and tears everything down on Ctrl-C.
"""
