"""The client side: the control-plane client, the pytest plugin, handles, transports, webhook receiver."""
