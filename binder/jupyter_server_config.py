# Jupyter server configuration shipped with the kit: `make lab`, Binder (postBuild copies it
# into the image) and hub images (docs/jupyterhub.md). Idle kernels are culled after an hour,
# and JupyterLab shuts a closed notebook's kernel down (binder/jupyterlab-overrides.json): both
# help a class's host, measured without them (bench/class_memory.py, bench/hub_class.py: a
# student's 14 kernels, none shut down, docs/jupyterhub.md).
c = get_config()  # noqa: F821 - provided by Jupyter when it loads this file

# A kernel nobody has run anything in for an hour is shut down (its notebook stays open;
# running a cell starts a new kernel, and the course replays what it needs from the workspace).
c.MappingKernelManager.cull_idle_timeout = 3600
c.MappingKernelManager.cull_interval = 300
c.MappingKernelManager.cull_connected = True  # also kernels of notebooks left open in a tab
c.MappingKernelManager.cull_busy = False  # never a kernel that is running a cell
