"""data_builders"""
