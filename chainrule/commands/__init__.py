"""One module per ``chainrule`` command: ``run(args) -> exit status``."""
