"""One module per file kind: its parser and the document rules read (`bastion.kinds.<kind>`)."""
