"""The shape engine: pure arithmetic on shapes, no parsing. shape.py is the
value, signature.py binds arguments, spec.py is what a layer is, rules/
hold the rules and catalog.py names them all; search.py asks whether any
input size gives a Linear its in_features."""
