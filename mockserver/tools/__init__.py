"""Programs around the emulator (record, drift, bench, load); the running emulator never imports them."""
