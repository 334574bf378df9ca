"""Stream intake: a thin at-least-once router from Kafka to Temporal (a faust app)."""
