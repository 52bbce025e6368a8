"""The Q/GDW 1376.1 uplink (terminal session and master station). Arrives with issue 5 of 6."""
