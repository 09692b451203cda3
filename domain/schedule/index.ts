/**
 * Daily-milk subscription schedule rules (pure, deterministic; safe inside Temporal workflows).
 */
export type {
  LocalDate,
  IsoWeekday,
  Recurrence,
  SubscriptionStatus,
  ScheduleSubscription,
  ExceptionType,
  ExceptionReason,
  ScheduleException,
  DecisionReason,
  DecidedBy,
  Decision,
} from './types';
export {
  addDays,
  daysBetween,
  isValidLocalDate,
  addMonthsClamped,
  isLeapYear,
  daysInMonth,
  isoWeekday,
  toEpochDay,
  fromEpochDay,
  compareLocalDates,
  isSupportedLocalDate,
  DateOutOfRangeError,
  MIN_SUPPORTED_DATE,
  MAX_SUPPORTED_DATE,
} from './local-date';
export { MAX_DAYS_AHEAD, MAX_END_DAYS_AHEAD, dateBoundsErrors, daysAhead, type DateBounds, type DateBoundsError } from './bounds';
export {
  EXCEPTION_REASONS,
  PAUSE_REASONS,
  SKIP_REASONS,
  CHANGE_REASONS,
  HOLIDAY_REASONS,
  DEFAULT_REASON,
  isAllowedReason,
  type KnownExceptionReason,
} from './reasons';
export { localDateOf, cutoffInstant, isValidTimezone, DEFAULT_TIMEZONE, DEFAULT_CUTOFF } from './timezone';
export { ruleDelivers, validateRecurrence, validateRecurrenceRequest } from './recurrence';
export { exceptionCovers, describeException } from './exceptions';
export { wouldDeliver, compileSchedule, describeRule, type CompiledSchedule } from './decide';
export { nextDeliveries, deliveriesBetween, pausedDaysIn, NEXT_DELIVERIES_HORIZON_DAYS } from './queries';
export {
  MAX_DELIVERY_QUANTITY,
  validateExceptionRequest,
  type ExceptionRequest,
  type ExceptionRequestContext,
  type ExceptionRequestError,
} from './validate-request';
