"""The built-in rules. Each module under this package defines one or more `Rule` subclasses;
the registry imports every module here, so adding a rule means adding a file."""
