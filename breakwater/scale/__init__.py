"""``make scale``: Breakwater at production volume, modelled on one machine with AWS's limits scaled down."""
