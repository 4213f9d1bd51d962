"""A container's life: state dir and status (state, status), the init's plan
(plan), the sync protocol (spawn), hooks, id maps, exec.fifo, and the commands
over them (lifecycle). The CLI and :mod:`pyrunc.api` use ``lifecycle``."""
