def calc(): pass
def batch(): pass
BatchReport=CalcReport=None
