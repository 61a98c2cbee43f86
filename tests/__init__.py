"""Tests of jaxgan (``tests/jaxgan``) and of its experiments (``tests/experiments``), laid out as the code is."""
