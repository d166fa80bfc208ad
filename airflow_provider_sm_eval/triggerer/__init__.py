"""The triggerer runtime: the clients, pipeline watches and queue consumers that triggers share.

Below the hooks and above the lifecycle core: the hook borrows from :data:`.runtime.RUNTIME`,
the triggers reach it only through the hook.
"""
