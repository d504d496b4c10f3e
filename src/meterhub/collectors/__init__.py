"""meterhub.collectors"""
