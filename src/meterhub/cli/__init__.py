"""meterhub.cli"""
