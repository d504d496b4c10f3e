"""meterhub.simulators"""
