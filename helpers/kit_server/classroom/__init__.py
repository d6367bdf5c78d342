"""Class mode: one kit server for a whole class, each student an isolated tenant.

    python -m helpers class add-students alice bob …     # keys mode: one key per student
    python -m helpers class serve --home CLASS [--engine simulated|local] [--hub]

Each student has a workspace of their own under `CLASS/students/<name>/`, served by the same
routes as a learner's own kit server (`serving.build_app`): their files, jobs and models live
in their own database, so another student's ids answer 404, exactly like the real API across
organizations. Who is asking comes from the request's key: a key the teacher issued
(`roster.py`), or, when the server runs as a JupyterHub service, the student's
`JUPYTERHUB_API_TOKEN`, checked against the hub with JupyterHub's own service auth
(`identity.py`). Quotas (jobs per day, training tokens per day) are refused with the real
API's 429 envelope (`router.py`); the teacher's page (`teacher.py`) shows students × steps.

In the notebooks the class server is a setting (`ATELIER_CLASS_URL`, and `ATELIER_CLASS_KEY`
in keys mode): `helpers.client` talks to it instead of starting a server; no notebook changes.
"""

from .router import create_class_app
from .tenants import ClassServer

__all__ = ["ClassServer", "create_class_app"]
