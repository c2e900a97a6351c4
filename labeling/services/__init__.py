"""Every write of the labeling app. Import from the submodules: projects, members, imports."""
