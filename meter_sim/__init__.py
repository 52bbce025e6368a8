"""Virtual meters: the firmware of one meter (``firmware``) and the drivers that serve many."""
