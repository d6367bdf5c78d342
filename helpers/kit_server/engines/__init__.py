"""The kit server's training engines, each implementing `contract.Engine`; `registry` chooses one."""
