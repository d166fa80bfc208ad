"""Where the plugin's pages live: the app's prefix under the API server, and ``[api] base_url``'s path.

A leaf module (Airflow's configuration only): the plugin's registration and its app both read it.
"""

from __future__ import annotations

from urllib.parse import urlparse

from airflow_provider_sm_eval.version_compat import conf

#: Where the API server mounts the plugin's app.
URL_PREFIX = "/sm-eval"
#: The app's route of its static files (the stylesheet), and the stylesheet's name there.
STATIC_ROUTE, STYLESHEET = "/static", "evaluation.css"


def airflow_base_path() -> str:
    """The path of ``[api] base_url`` ('' at the root): the prefix of every URL of the UI."""
    return urlparse(conf.get("api", "base_url", fallback="") or "").path.rstrip("/")


def app_base_path() -> str:
    """The app's URL path (the iframe of a tab loads its pages, they load its stylesheet)."""
    return airflow_base_path() + URL_PREFIX
