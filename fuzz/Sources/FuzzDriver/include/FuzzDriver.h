// Nothing to import: the entry points below are for the linker alone.
