"""HTML views (htmx): project pages in `projects`, the labeling queue in `queue`."""
