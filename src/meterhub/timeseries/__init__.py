"""meterhub.timeseries"""
