"""The sandbox: a Mint-compatible API server with a journey engine, run as its own program (``python -m sandbox``)."""
