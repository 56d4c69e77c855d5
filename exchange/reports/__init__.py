"""Yearly reports of the joint meeting (Art. 12): figures from the events on the bus, written
as CSV files and a readable HTML page with inline SVG charts."""
