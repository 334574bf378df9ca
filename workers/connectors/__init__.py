"""Generic connectors: the only code that touches a downstream system.

One interface (``Connector``), one module per kind of system, one registry that picks the
implementation from the policy pack's ``connector.kind``. A new system of a known kind is
data in a pack; a new kind is a new module here.
"""
