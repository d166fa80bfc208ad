"""The host name of a stack component, as Airflow records it (``[core] hostname_callable``).

The Celery profile runs each component as if on a host of its own: each gets a loopback address
of its own (127.0.0.N; Linux routes all of 127.0.0.0/8 to the loopback interface) in
``SM_EVAL_STACK_HOSTNAME``, and its log server listens there. Airflow records this name on the
task instances a worker runs and on a triggerer's job, and the API servers fetch task and trigger
logs from ``http://<name>:<log server port>/log/...``, as they would from another host.
"""

from __future__ import annotations

import os
import socket

#: The variable that carries a component's host name.
HOSTNAME_VARIABLE = "SM_EVAL_STACK_HOSTNAME"


def hostname() -> str:
    """The component's host address, or this machine's name outside a Celery-profile stack."""
    return os.environ.get(HOSTNAME_VARIABLE) or socket.getfqdn()
