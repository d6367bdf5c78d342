# Jupyter server configuration shipped with the kit: `make lab`, Binder (postBuild copies it
# into the image) and hub images (docs/jupyterhub.md). Idle kernels are culled after an hour
# — a comfort only: a student's 13 kernels and kit server fit the memory budget (1 GiB)
# with none culled (bench/class_memory.py).
c = get_config()  # noqa: F821 - provided by Jupyter when it loads this file

# A kernel nobody has run anything in for an hour is shut down (its notebook stays open;
# running a cell starts a new kernel, and the course replays what it needs from the workspace).
c.MappingKernelManager.cull_idle_timeout = 3600
c.MappingKernelManager.cull_interval = 300
c.MappingKernelManager.cull_connected = True  # also kernels of notebooks left open in a tab
c.MappingKernelManager.cull_busy = False  # never a kernel that is running a cell
