"""Regional monitoring over HTTP, pages and the CLI: releases for a region's steering group, the
privacy budget's ledger, and what a participant is counted in."""
