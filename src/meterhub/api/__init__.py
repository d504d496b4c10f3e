"""meterhub.api"""
