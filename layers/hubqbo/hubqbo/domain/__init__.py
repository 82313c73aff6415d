"""Pure rules with no I/O: invoice status, matching, mappings, numbering, currency and tax rules."""
