"""OpenDSR v2 (successor of OpenGDPR): the partner protocol, its signatures and its ledger."""
