"""Tests of the library: the core here, one directory per subpackage of ``jaxgan``."""
