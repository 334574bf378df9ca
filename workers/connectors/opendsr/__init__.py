"""OpenDSR v2 (successor of OpenGDPR): the partner connector, its protocol, signatures and
client. The callback gateway that receives partners' answers is in the API."""
