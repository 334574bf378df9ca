"""What every process of ours needs at run time: settings, payload codec, telemetry, metrics,
the Temporal client and the Kafka publisher."""
