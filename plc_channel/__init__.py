"""SimPy models of the media (RS-485, narrowband PLC, HPLC) and the emulated 1376.2 module.
Arrives with issue 2 of 6; empty until then."""
