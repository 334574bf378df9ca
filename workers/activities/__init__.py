"""Activities: all the I/O a workflow asks for, one module per capability (request steps,
reports, partners, consent), typed stubs in ``definitions`` that workflows call by reference."""
