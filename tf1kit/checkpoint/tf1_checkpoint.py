def load_tf1_checkpoint(obj, path, partial=False):
    raise NotImplementedError
