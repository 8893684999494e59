"""The interactive explorer: a local web page over a model (``modelcheck explore``)."""
