"""``tf.keras.callbacks``."""

from .callback import Callback, CallbackList  # noqa: F401
from .history import History  # noqa: F401
from .progbar_logger import ProgbarLogger  # noqa: F401
from .early_stopping import EarlyStopping  # noqa: F401
from .model_checkpoint import ModelCheckpoint  # noqa: F401
from .backup_and_restore import BackupAndRestore  # noqa: F401
from .learning_rate import LearningRateScheduler, ReduceLROnPlateau  # noqa: F401
from .lambda_callback import LambdaCallback  # noqa: F401
from .terminate_on_nan import TerminateOnNaN  # noqa: F401
from .csv_logger import CSVLogger  # noqa: F401
from .tensorboard import TensorBoard  # noqa: F401
