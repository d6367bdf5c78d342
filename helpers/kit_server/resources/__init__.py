"""The REST resources of the kit server, one module each (like the SDKs' `resources/`)."""
